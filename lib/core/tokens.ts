/**
 * The token grammars shared by boot-time config checks and CRM-answer
 * classification: whatever may end up in a dial string is held to the same
 * rules whether the operator or the CRM wrote it.
 */

/** Gateway names, scheme names, SIP logins: no dial-string metacharacters. */
export const SAFE_TOKEN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

const LABEL = '[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?';
/** A DNS host name (letters, digits, hyphens; dot-separated labels). */
export const HOST_NAME = new RegExp(`^(?=.{1,253}$)${LABEL}(?:\\.${LABEL})*$`);

/** `login` or `login@host`, capturing both parts. */
export const SIP_LOGIN = new RegExp(`^([A-Za-z0-9][A-Za-z0-9._-]{0,63})(?:@((?=.{1,253}$)${LABEL}(?:\\.${LABEL})*))?$`);

