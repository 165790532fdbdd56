// Preloaded into sluice by bench:memory (`node --expose-gc --import <this> bin/sluice.js serve`):
// a full garbage collection on SIGUSR2, so the heap is sampled with only live objects in it.
// Changes nothing else in the process.

const gc = (globalThis as { gc?: () => void }).gc;
if (gc) process.on('SIGUSR2', () => gc());
