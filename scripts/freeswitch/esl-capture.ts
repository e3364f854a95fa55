// Records outbound event-socket conversations byte for byte, in the format of
// spec/fixtures/freeswitch-esl/ (see README.txt there): a proxy between FreeSWITCH's `socket`
// application and the router.
//
//   npx tsx scripts/freeswitch/esl-capture.ts --listen 127.0.0.1:8084 --router 127.0.0.1:8094 \
//       --out /tmp/captures [--scenario "what this call does"] [--freeswitch 127.0.0.1:8021]
//
// FreeSWITCH dials --listen (its dialplan's socket address); every connection is forwarded to the
// router at --router and written to <out>/<n>-<uuid>.txt when it closes. Each direction is recorded
// as it passed: ">>> router->fs N bytes @ +T (hh:mm:ss.mmm)" for each chunk the router wrote, and
// "<<< fs->router N bytes @ +T (hh:mm:ss.mmm)" for each complete frame FreeSWITCH sent (header
// block + Content-Length body), each marker followed by exactly N bytes. Bytes are forwarded
// unchanged and at once; splitting FreeSWITCH's side into frames only decides where markers go.
// With --freeswitch, the file's header names the FreeSWITCH version (`api version` on its inbound
// event socket, password $CRM_ROUTER_FREESWITCH_PASSWORD or ClueCon).
import { mkdirSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { FrameSplitter } from '../../spec/integration/esl-frames.ts';
import { InboundSocket } from '../../spec/integration/real-freeswitch.ts';

const address = (name: string, value: string | undefined): { host: string; port: number } => {
  const m = /^(.+):(\d+)$/.exec(value ?? '');
  if (!m) throw new Error(`--${name}: expected host:port, got ${value ?? 'nothing'}`);
  return { host: m[1]!, port: Number(m[2]) };
};

const clock = (ms: number): string => new Date(ms).toISOString().slice(11, 23);

/** One recorded connection: markers and bytes, in the order they passed the proxy. */
class Transcript {
  private readonly parts: Buffer[] = [];
  private readonly summary: string[] = [];
  private readonly t0 = Date.now();
  uuid = 'unknown';

  private marker(arrow: string, n: number): string {
    const now = Date.now();
    return `${arrow} ${n} bytes @ +${((now - this.t0) / 1000).toFixed(3)}s (${clock(now)})\n`;
  }

  note(text: string): void {
    const now = Date.now();
    this.parts.push(Buffer.from(`# [+${((now - this.t0) / 1000).toFixed(3)}s (${clock(now)})] ${text}\n`));
  }

  fromRouter(chunk: Buffer): void {
    this.parts.push(Buffer.from(this.marker('>>> router->fs', chunk.length)), chunk);
  }

  fromFreeSwitch(frame: Buffer, headers: ReadonlyMap<string, string>): void {
    this.parts.push(Buffer.from(this.marker('<<< fs->router', frame.length)), frame);
    const type = headers.get('Content-Type') ?? '?';
    const at = `+${((Date.now() - this.t0) / 1000).toFixed(3)}s`;
    if (type === 'text/event-plain') {
      const body = frame.subarray(frame.indexOf('\n\n') + 2).toString('latin1');
      const name = /^Event-Name: (.*)$/m.exec(body)?.[1] ?? '?';
      const app = /^Application: (.*)$/m.exec(body)?.[1];
      this.summary.push(`# ${at} text/event-plain ${name}${app ? ` Application=${app}` : ''}`);
    } else {
      const reply = headers.get('Reply-Text');
      this.summary.push(`# ${at} ${type}${reply !== undefined ? ` Reply-Text='${reply}'` : ''}`);
      const uuid = /^Unique-ID: ([0-9a-f-]{36})$/m.exec(frame.toString('latin1'))?.[1];
      if (uuid !== undefined && this.uuid === 'unknown') this.uuid = uuid;
    }
  }

  write(path: string, header: readonly string[]): void {
    const tail = ['#', '# ===== SUMMARY of frames received from FreeSWITCH (derived, not protocol bytes) =====', ...this.summary, ''];
    // Nothing between a chunk and what follows it: readers cut chunks by their byte counts, and the
    // next line starts right after the last byte (spec/emulator/capture.ts).
    writeFileSync(path, Buffer.concat([Buffer.from(header.map((l) => (l === '#' ? '#\n' : `# ${l}\n`)).join('')), ...this.parts, Buffer.from(tail.join('\n'))]));
  }
}

const main = async (): Promise<void> => {
  const { values } = parseArgs({
    options: {
      listen: { type: 'string', default: '127.0.0.1:8084' },
      router: { type: 'string' },
      out: { type: 'string' },
      scenario: { type: 'string', default: '(not described)' },
      freeswitch: { type: 'string' },
    },
  });
  const listen = address('listen', values.listen);
  const router = address('router', values.router);
  if (values.out === undefined) throw new Error('--out: the folder to write captures to');
  const out = values.out;
  mkdirSync(out, { recursive: true });

  let version = '(unknown: pass --freeswitch host:port)';
  if (values.freeswitch !== undefined) {
    const at = address('freeswitch', values.freeswitch);
    const esl = await InboundSocket.open(at.host, at.port, process.env['CRM_ROUTER_FREESWITCH_PASSWORD'] || 'ClueCon');
    version = (await esl.api('version')).trim();
    await esl.close();
  }

  let count = 0;
  const server = net.createServer({ noDelay: true }, (fs) => {
    const n = ++count;
    const transcript = new Transcript();
    const started = new Date().toISOString().replace('T', ' ').slice(0, 19);
    transcript.note(`(tool) TCP connection accepted from ${fs.remoteAddress}:${fs.remotePort}`);
    const splitter = new FrameSplitter();
    const toRouter = net.connect({ ...router, noDelay: true });
    let closed = 0;
    const done = (who: string): void => {
      transcript.note(`${who} closed the socket`);
      if (++closed < 2) return;
      const rest = splitter.rest();
      if (rest.length > 0) transcript.note(`(tool) ${rest.length} bytes from FreeSWITCH did not make a whole frame: not recorded`);
      const file = join(out, `${String(n).padStart(3, '0')}-${transcript.uuid}.txt`);
      transcript.write(file, [
        'FreeSWITCH ESL outbound-socket capture (real FreeSWITCH, not a mock).',
        `FreeSWITCH version: ${version}`,
        `Scenario: ${values.scenario}`,
        `Captured ${started} UTC by scripts/freeswitch/esl-capture.ts (a proxy: FreeSWITCH -> ${listen.host}:${listen.port} -> router ${router.host}:${router.port}).`,
        'FORMAT: see README.txt. Each marker line is followed by exactly N bytes, verbatim.',
        '#',
      ]);
      console.log(`captured ${file}`);
    };
    fs.on('data', (chunk: Buffer) => {
      toRouter.write(chunk);
      for (const frame of splitter.push(chunk)) transcript.fromFreeSwitch(frame.bytes, frame.headers);
    });
    toRouter.on('data', (chunk: Buffer) => {
      transcript.fromRouter(chunk);
      fs.write(chunk);
    });
    fs.on('end', () => toRouter.end());
    toRouter.on('end', () => fs.end());
    fs.on('error', (err) => transcript.note(`(tool) FreeSWITCH side: ${err.message}`));
    toRouter.on('error', (err) => {
      transcript.note(`(tool) router side: ${err.message}`);
      fs.destroy();
    });
    fs.on('close', () => done('FreeSWITCH'));
    toRouter.on('close', () => done('router'));
  });
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(listen.port, listen.host, resolve));
  console.log(`esl-capture: ${listen.host}:${listen.port} -> router ${router.host}:${router.port}, captures in ${out}`);
};

main().catch((err: Error) => {
  console.error(`esl-capture: ${err.message}`);
  process.exit(1);
});
