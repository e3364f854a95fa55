import type { Pbx } from './pbx.ts';

export interface RealFreeSwitch {
  /** Where the router must listen: the address in the real FreeSWITCH's dialplan `socket` line. */
  readonly routerListen: { readonly host: string; readonly port: number };
  readonly connect: () => Promise<Pbx>;
}

/** CRM_ROUTER_FREESWITCH=host:port names the event socket (inbound, 8021) of a real FreeSWITCH. */
export const realFreeSwitchFromEnv = (): RealFreeSwitch | undefined => {
  const address = process.env['CRM_ROUTER_FREESWITCH'];
  if (address === undefined || address === '') return undefined;
  throw new Error(`CRM_ROUTER_FREESWITCH=${address}: the real-FreeSWITCH driver is not written yet`);
};
