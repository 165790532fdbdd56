// Splits the text of an event stream (`GET /v1/events`) into its complete Server-Sent Events —
// `id`, `event` and the JSON `data` — and its comment lines, leaving an unfinished frame as the
// rest to prepend to the next chunk; and reads a stream's body it is given chunk by chunk through
// that split. Every reader of the stream uses it; it opens no connection.

export interface EventFrame {
  /** The `id:` line, when the frame had one. */
  id?: number;
  /** The `event:` line (`message` when absent). */
  event: string;
  /** The `data:` lines joined and parsed as JSON. */
  data: unknown;
}

export interface SplitFrames {
  events: EventFrame[];
  /** The text of each comment line (`: keepalive` → `keepalive`). */
  comments: string[];
  /** An unfinished frame at the end of the text. */
  rest: string;
}

export function splitFrames(text: string): SplitFrames {
  const blocks = text.split('\n\n');
  const rest = blocks.pop() ?? '';
  const events: EventFrame[] = [];
  const comments: string[] = [];
  for (const block of blocks) {
    let id: number | undefined;
    let event = 'message';
    const data: string[] = [];
    for (const line of block.split('\n')) {
      if (line.startsWith(':')) {
        comments.push(line.slice(1).trim());
        continue;
      }
      const colon = line.indexOf(':');
      const field = colon < 0 ? line : line.slice(0, colon);
      const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
      if (field === 'id') id = Number(value);
      else if (field === 'event') event = value;
      else if (field === 'data') data.push(value);
    }
    if (data.length > 0) events.push({ ...(id === undefined ? {} : { id }), event, data: JSON.parse(data.join('\n')) as unknown });
  }
  return { events, comments, rest };
}

/**
 * Reads an event stream's body to its end, handing the complete events and comments of each chunk
 * to `take`; rejects when the stream breaks or is aborted.
 */
export async function readFrames(body: AsyncIterable<Uint8Array>, take: (frames: Omit<SplitFrames, 'rest'>) => void): Promise<void> {
  const decoder = new TextDecoder();
  let buffered = '';
  for await (const chunk of body) {
    const { rest, ...frames } = splitFrames(buffered + decoder.decode(chunk, { stream: true }));
    buffered = rest;
    take(frames);
  }
}
