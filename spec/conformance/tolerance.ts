// THE list of what may differ between a real FreeSWITCH frame (capture) and the emulator's frame
// for the same step. Everything not allowed here must be byte-identical. Kept narrow on purpose:
// a value may differ only when both sides match the same per-call pattern, or when its header
// name is listed below with the reason.
import { header, parseHeaderBlock, type Frame, type Header } from '../emulator/index.ts';

const UUID_RE = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g;
const MICROS_RE = /(?<![0-9])1[0-9]{15}(?![0-9])/g;

/** Headers whose whole value is per-call (clock or counters), with the shape both sides must have. */
const PER_CALL_SHAPE: Record<string, RegExp> = {
  'Event-Sequence': /^\d+$/,
  'Event-Date-Local': /^\d{4}-\d\d-\d\d%20\d\d%3A\d\d%3A\d\d$/,
  'Event-Date-GMT': /^[A-Z][a-z]{2},%20\d\d%20[A-Z][a-z]{2}%20\d{4}%20\d\d%3A\d\d%3A\d\d%20GMT$/,
};

/**
 * Values that another run of the same scenario on the real FreeSWITCH would also change: SIP
 * identifiers of the sipp process, RTP ports and media statistics, CDR durations. Each needs a reason.
 */
const PER_RUN_HEADERS = new Set<string>([
  // sipp's pid is part of Call-ID, tags and Via branch; FreeSWITCH's own tags are random.
  'variable_sip_call_id', 'variable_sip_from_tag', 'variable_sip_to_tag', 'variable_sip_full_via', 'variable_sip_full_from',
  'variable_sip_full_to', 'variable_sip_via_rport', 'variable_session_id', 'variable_sip_outgoing_contact_uri',
  // RTP ports are allocated per call; SDP bodies carry them and session versions.
  'variable_local_media_port', 'variable_remote_media_port', 'variable_switch_r_sdp', 'variable_switch_m_sdp', 'variable_rtp_local_sdp_str',
  'variable_sip_local_sdp_str', 'variable_sip_contact_port',
  // RTP SSRC is random per stream.
  'variable_rtp_use_ssrc', 'variable_sip_network_port', 'variable_sip_received_port',
  // Durations and dates of the CDR part of CHANNEL_HANGUP_COMPLETE depend on how long the call lasted.
  'variable_start_stamp', 'variable_profile_start_stamp', 'variable_answer_stamp', 'variable_bridge_stamp', 'variable_progress_stamp',
  'variable_end_stamp', 'variable_start_epoch', 'variable_answer_epoch', 'variable_bridge_epoch', 'variable_progress_epoch',
  'variable_end_epoch', 'variable_duration', 'variable_billsec', 'variable_progresssec', 'variable_answersec', 'variable_waitsec',
  'variable_progress_mediasec', 'variable_flow_billsec', 'variable_mduration', 'variable_billmsec', 'variable_progressmsec',
  'variable_answermsec', 'variable_waitmsec', 'variable_progress_mediamsec', 'variable_flow_billmsec', 'variable_uduration',
  'variable_billusec', 'variable_progressusec', 'variable_answerusec', 'variable_waitusec', 'variable_progress_mediausec',
  'variable_flow_billusec', 'variable_profile_start_epoch', 'variable_profile_start_uepoch', 'variable_end_uepoch',
  'variable_start_uepoch', 'variable_answer_uepoch', 'variable_bridge_uepoch', 'variable_progress_uepoch', 'variable_progress_media_uepoch',
  'variable_progress_media_epoch', 'variable_progress_media_stamp', 'variable_last_hold_epoch', 'variable_hold_accum_seconds',
]);
const PER_RUN_PREFIX = [
  // RTP packet/byte counters and jitter statistics of the media that flowed.
  'variable_rtp_audio_', 'variable_rtp_video_', 'variable_rtp_text_',
];

function isPerRunHeader(name: string): boolean {
  return PER_RUN_HEADERS.has(name) || PER_RUN_PREFIX.some((p) => name.startsWith(p));
}

/** Replace uuids and microsecond timestamps, the two per-call tokens that appear inside longer values. */
function normalize(v: string): string {
  return v.replace(UUID_RE, '<uuid>').replace(MICROS_RE, '<us>');
}

export function valuesMatch(name: string, real: string, emulated: string): boolean {
  if (real === emulated) return true;
  const shape = PER_CALL_SHAPE[name];
  if (shape) return shape.test(real) && shape.test(emulated);
  if (isPerRunHeader(name)) return true;
  return normalize(real) === normalize(emulated);
}

/**
 * Header names must be the same, in the same order (channel variables included: FreeSWITCH lists
 * them in insertion order, and the emulator models that order, see flows.ts on the caller's ACK).
 */
export function compareHeaders(where: string, real: readonly Header[], emu: readonly Header[]): string[] {
  const diffs: string[] = [];
  const rn = real.map((h) => h[0]).join('\n');
  const en = emu.map((h) => h[0]).join('\n');
  if (rn !== en) {
    const a = real.map((h) => h[0]);
    const b = emu.map((h) => h[0]);
    let i = 0;
    while (i < a.length && a[i] === b[i]) i++;
    diffs.push(`${where}: header names differ at #${i}: real ${a[i]} / emulated ${b[i]} (real ${a.length}, emulated ${b.length} headers)`);
    return diffs;
  }
  real.forEach(([n, v], i) => {
    const ev = emu[i]![1];
    if (!valuesMatch(n, v, ev)) diffs.push(`${where}: ${n}: real ${JSON.stringify(v.slice(0, 120))} emulated ${JSON.stringify(ev.slice(0, 120))}`);
  });
  return diffs;
}

/**
 * The body of `api status` reports uptime, session counters and idle CPU of that moment; the rest
 * (version line, limits, stack size) must be the same. Only those numbers may differ.
 */
const STATUS_BODY = /^UP \d+ years, \d+ days, \d+ hours, \d+ minutes, \d+ seconds, \d+ milliseconds, \d+ microseconds\n(FreeSWITCH \(Version [^\n]*\) is ready\n)\d+ session\(s\) since startup\n\d+ session\(s\) - peak \d+, last 5min \d+ \n\d+ session\(s\) per Sec out of max (\d+), peak \d+, last 5min \d+ \n(\d+ session\(s\) max\n)min idle cpu \d+\.\d\d\/\d+\.\d\d\n(Current Stack Size\/Max [^\n]*\n)$/;

function statusBodiesMatch(real: string, emu: string): boolean {
  const r = STATUS_BODY.exec(real);
  const e = STATUS_BODY.exec(emu);
  return r !== null && e !== null && r.slice(1).join() === e.slice(1).join();
}

/** Compares two whole frames: outer header block, framing, then the event body header by header. */
export function compareFrames(where: string, real: Frame, emu: Frame): string[] {
  const diffs: string[] = [];
  const len = header(emu.headers, 'Content-Length');
  if (len !== undefined && Number(len) !== emu.body.length) diffs.push(`${where}: Content-Length ${len} but body is ${emu.body.length} bytes`);
  if (header(real.headers, 'Content-Type') === 'text/event-plain') {
    diffs.push(...compareHeaders(where + ' (outer)', real.headers.map(([n, v]) => [n, n === 'Content-Length' ? '' : v] as const), emu.headers.map(([n, v]) => [n, n === 'Content-Length' ? '' : v] as const)));
    const rb = splitBody(real.body);
    const eb = splitBody(emu.body);
    diffs.push(...compareHeaders(where, rb.headers, eb.headers));
    if (rb.rest !== eb.rest) diffs.push(`${where}: inner body differs`);
    return diffs;
  }
  if (header(real.headers, 'Content-Type') === 'api/response' && statusBodiesMatch(real.body, emu.body)) {
    // Its Content-Length follows the numbers' widths (checked against the body above).
    const blank = (hs: readonly Header[]): Header[] => hs.map(([n, v]) => [n, n === 'Content-Length' ? '' : v] as const);
    diffs.push(...compareHeaders(where, blank(real.headers), blank(emu.headers)));
    return diffs;
  }
  diffs.push(...compareHeaders(where, real.headers, emu.headers));
  if (real.body !== emu.body) diffs.push(`${where}: body differs: real ${JSON.stringify(real.body.slice(0, 80))} emulated ${JSON.stringify(emu.body.slice(0, 80))}`);
  return diffs;
}

function splitBody(body: string): { headers: Header[]; rest: string } {
  const end = body.indexOf('\n\n');
  return { headers: parseHeaderBlock(end < 0 ? body : body.slice(0, end)), rest: end < 0 ? '' : body.slice(end + 2) };
}

export function label(f: Frame): string {
  const ct = header(f.headers, 'Content-Type') ?? '?';
  if (ct === 'text/event-plain') {
    const b = splitBody(f.body).headers;
    const app = header(b, 'Application');
    return `${header(b, 'Event-Name')}${app ? `(${app})` : ''}${header(b, 'Event-Name') === 'CHANNEL_STATE' ? `(${header(b, 'Channel-State')})` : ''}`;
  }
  if (ct === 'command/reply') return header(f.headers, 'Event-Name') ? 'connect-reply' : `reply(${header(f.headers, 'Reply-Text')})`;
  if (ct === 'text/disconnect-notice') return `notice(${header(f.headers, 'Content-Disposition')})`;
  return ct;
}

/**
 * Documented ordering races (notes, "Ordering is not guaranteed around hang-up"): the socket app's
 * own early events (CHANNEL_PARK, and the CS_NEW..CS_EXECUTE / CHANNEL_CREATE / EXECUTE(socket)
 * a late subscription can still catch) may or may not arrive. They are taken out of both sides.
 */
export function isRaceEvent(f: Frame): boolean {
  const l = label(f);
  return l === 'CHANNEL_PARK' || l === 'CHANNEL_CREATE' || l === 'CHANNEL_EXECUTE(socket)' ||
    /^CHANNEL_STATE\(CS_(NEW|INIT|ROUTING|EXECUTE)\)$/.test(l);
}

/** The linger notice may come before CHANNEL_HANGUP or after CHANNEL_HANGUP_COMPLETE: compared apart from the sequence. */
export function isLingerNotice(f: Frame): boolean {
  return label(f) === 'notice(linger)';
}
