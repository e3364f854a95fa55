/** A header accessor: FreeSWITCH frames carry ~160 headers, and a call reads a handful of them. */
export type HeaderLookup = (name: string) => string | undefined;

/** One frame from FreeSWITCH, classified by its Content-Type. */
export type Frame =
  | { readonly _tag: 'CommandReply'; readonly replyText: string; readonly header: HeaderLookup }
  | { readonly _tag: 'ApiResponse'; readonly body: string }
  | { readonly _tag: 'Event'; readonly name: string; readonly header: HeaderLookup }
  | { readonly _tag: 'DisconnectNotice'; readonly disposition: string | undefined; readonly header: HeaderLookup }
  | { readonly _tag: 'Unknown'; readonly contentType: string };

/** What answers a command: `api` gets an api/response, every other command a command/reply. */
export type ReplyFrame = Extract<Frame, { _tag: 'CommandReply' | 'ApiResponse' }>;
export type EventFrame = Extract<Frame, { _tag: 'Event' }>;

