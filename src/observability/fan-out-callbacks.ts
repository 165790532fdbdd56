// One set of stream callbacks that forwards every event to several (the fleet status, the
// metrics…), in the order given. Forwarding only; it keeps no state of its own.

import type { StreamCallbacks } from '../xds/server/callbacks.js';

export function fanOutCallbacks(...callbacks: StreamCallbacks[]): StreamCallbacks {
  return {
    streamOpened: (...args) => callbacks.forEach((c) => c.streamOpened(...args)),
    subscribed: (...args) => callbacks.forEach((c) => c.subscribed(...args)),
    responseSent: (...args) => callbacks.forEach((c) => c.responseSent(...args)),
    acked: (...args) => callbacks.forEach((c) => c.acked(...args)),
    nacked: (...args) => callbacks.forEach((c) => c.nacked(...args)),
    streamClosed: (...args) => callbacks.forEach((c) => c.streamClosed(...args)),
  };
}
