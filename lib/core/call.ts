/** The pipeline's input: one inbound call as the telephony layer saw it. */
import * as t from 'io-ts';

export const Call = t.readonly(
  t.type({
    /** The call's identifier sent to the CRM as `call_id` (e.g. the SIP Call-ID). */
    callId: t.string,
    /** The FreeSWITCH channel uuid, sent as `uuid`. */
    uuid: t.string,
    caller: t.string,
    called: t.string,
    /** Channel variables by FreeSWITCH name (`caller_id_number`, `crm_scheme`, ...); `${name}` templates read these. */
    variables: t.readonly(t.record(t.string, t.string)),
  }),
  'Call',
);
export type Call = t.TypeOf<typeof Call>;
