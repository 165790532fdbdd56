// The event stream's splitter: complete events with their id, type and JSON data, comment lines,
// and a frame cut between two chunks kept as the rest until its end arrives.

import { describe, expect, it } from 'vitest';
import { splitFrames } from './event-frames.js';

describe('event frames', () => {
  it('returns the complete events, the comments and the unfinished rest', () => {
    const text = ': keepalive\n\nid: 3\nevent: revision\ndata: {"type":"revision","revision":2}\n\nevent: reset\ndata:{"a":\ndata: 1}\n\nid: 4\nevent: ack\ndata: {"ty';
    expect(splitFrames(text)).toEqual({
      events: [
        { id: 3, event: 'revision', data: { type: 'revision', revision: 2 } },
        { event: 'reset', data: { a: 1 } },
      ],
      comments: ['keepalive'],
      rest: 'id: 4\nevent: ack\ndata: {"ty',
    });
  });

  it('reads a frame split across chunks once its end arrives', () => {
    const first = splitFrames('id: 1\nevent: nack\nda');
    expect(first.events).toEqual([]);
    expect(splitFrames(`${first.rest}ta: {"node":"e1"}\n\n`)).toEqual({ events: [{ id: 1, event: 'nack', data: { node: 'e1' } }], comments: [], rest: '' });
  });
});
