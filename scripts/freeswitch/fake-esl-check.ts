// A self-check of spec/integration/real-freeswitch.ts against a scripted FAKE event socket (not FreeSWITCH):
// it only shows that the driver parses frames, demultiplexes the loopback B leg and builds a CallResult
// from events shaped like the captures. Run: npx tsx scripts/freeswitch/fake-esl-check.ts
import net from 'node:net';
import { randomUUID } from 'node:crypto';
import { realFreeSwitchFromEnv } from '../../spec/integration/real-freeswitch.ts';

const enc = (s: string) => encodeURIComponent(s);
const ev = (h: Record<string, string>, body = '') => {
  let b = Object.entries(h).map(([k, v]) => `${k}: ${enc(v)}`).join('\n') + '\n';
  if (body) b += `Content-Length: ${Buffer.byteLength(body)}\n\n${body}`; else b += '\n';
  return `Content-Length: ${Buffer.byteLength(b)}\nContent-Type: text/event-plain\n\n${b}`;
};
const log: string[] = [];
const server = net.createServer((s) => {
  s.write('Content-Type: auth/request\n\n');
  let buf = '';
  let vars: Record<string, string> = {};
  const B = randomUUID();
  s.on('data', (d) => {
    buf += d.toString();
    let i;
    while ((i = buf.indexOf('\n\n')) >= 0) {
      const cmd = buf.slice(0, i); buf = buf.slice(i + 2);
      log.push(cmd);
      const reply = (t: string) => s.write(`Content-Type: command/reply\nReply-Text: ${t}\n\n`);
      const api = (t: string) => s.write(`Content-Type: api/response\nContent-Length: ${Buffer.byteLength(t)}\n\n${t}`);
      if (cmd.startsWith('auth')) reply('+OK accepted');
      else if (cmd === 'api version') api('FreeSWITCH Version 1.10.12-mock\n');
      else if (cmd.startsWith('api global_getvar')) api('127.0.0.1:8084');
      else if (cmd.startsWith('api module_exists')) api('true');
      else if (cmd.startsWith('api sofia status gateway')) api('Name\tpstn\n');
      else if (cmd.startsWith('event') || cmd.startsWith('filter')) reply('+OK');
      else if (cmd === 'exit') { reply('+OK bye'); s.end(); }
      else if (cmd.startsWith('bgapi originate')) {
        const job = randomUUID();
        reply(`+OK Job-UUID: ${job}`);
        const inner = /\{(.*)\}/.exec(cmd)![1]!;
        vars = Object.fromEntries(inner.split(',').map((p) => p.split('=') as [string, string]));
        const A = vars['origination_uuid']!;
        const base = (name: string, extra: Record<string, string> = {}) => ({ 'Event-Name': name, 'Unique-ID': B, variable_loopback_leg: 'B', variable_other_loopback_leg_uuid: A, ...Object.fromEntries(Object.entries(vars).map(([k, v]) => [`variable_${k}`, v])), ...extra });
        const bridgeUuid = randomUUID();
        s.write(ev(base('CHANNEL_EXECUTE', { Application: 'socket', 'Application-Data': '127.0.0.1:8084 full' })));
        if (vars['crm_scheme'] === 'back') {
          s.write(ev(base('CHANNEL_EXECUTE_COMPLETE', { Application: 'socket' })));
          s.write(ev(base('CHANNEL_EXECUTE', { Application: 'set', 'Application-Data': 'crm_router_returned=true' })));
          s.write(ev(base('CHANNEL_HANGUP', { 'Hangup-Cause': 'NORMAL_CLEARING' })));
          s.write(ev(base('CHANNEL_DESTROY')));
          s.write(ev({ 'Event-Name': 'BACKGROUND_JOB', 'Job-UUID': job }, '-ERR NORMAL_CLEARING\n'));
          return;
        }
        s.write(ev(base('CHANNEL_EXECUTE', { Application: 'bridge', 'Application-Data': '{originate_timeout=1}user/agent1', 'Application-UUID': bridgeUuid })));
        s.write(ev(base('CHANNEL_ANSWER')));
        s.write(ev(base('CHANNEL_BRIDGE')));
        (s as any).finishB = () => {
          s.write(ev(base('CHANNEL_HANGUP', { 'Hangup-Cause': 'NORMAL_CLEARING' })));
          s.write(ev(base('CHANNEL_EXECUTE_COMPLETE', { Application: 'bridge', 'Application-Data': '{originate_timeout=1}user/agent1', 'Application-UUID': bridgeUuid, variable_originate_disposition: 'SUCCESS' })));
          s.write(ev(base('CHANNEL_EXECUTE_COMPLETE', { Application: 'socket' })));
          s.write(ev(base('CHANNEL_DESTROY')));
        };
        s.write(ev({ 'Event-Name': 'BACKGROUND_JOB', 'Job-UUID': job }, `+OK ${A}\n`));
      } else if (cmd.startsWith('bgapi uuid_kill')) {
        reply(`+OK Job-UUID: ${randomUUID()}`);
        if (cmd.includes(B)) (s as any).finishB?.();
      } else reply('-ERR command not found');
    }
  });
});
server.listen(18021, '127.0.0.1', async () => {
  process.env['CRM_ROUTER_FREESWITCH'] = '127.0.0.1:18021';
  const pbx = await realFreeSwitchFromEnv()!.connect();
  console.log(pbx.description, pbx.can('socket-reset'), pbx.can('many-calls'));
  const r = await pbx.placeCall('sync', { variables: { crm_scheme: 'http' } });
  console.log(JSON.stringify({ ...r, channelVars: Object.keys(r.channelVars).length }, null, 1));
  const r2 = await pbx.placeCall('async', { variables: { crm_scheme: 'back' } });
  console.log(JSON.stringify({ ...r2, channelVars: undefined }));
  await pbx.placeCall('sync', { variables: { 'bad var': 'x' } }).catch((e) => console.log('rejected:', (e as Error).message));
  await pbx.close();
  console.log(log.filter((l) => l.startsWith('bgapi')).join('\n'));
  server.close();
});
