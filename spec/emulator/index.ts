// Public API of the FreeSWITCH outbound-socket emulator.
export { FreeSwitchEmulator, attach, type AttachOptions } from './emulator.ts';
export { RawSession } from './raw.ts';
export { Channels } from './channels.ts';
export type { CallScript, CallResult, CalleeBehaviour, RecordedCommand, BridgeRecord, SocketMode } from './types.ts';
export { FrameReader, parseHeaderBlock, urlDecode, urlEncode, header, type Frame, type Header } from './frame.ts';
export { loadCapture, parseCapture, type Capture, type CaptureChunk } from './capture.ts';
