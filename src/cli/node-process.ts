// How a launcher starts a node process: the settings every launched node gets, in one place for
// `quorumq cluster` and the repository's own launcher (cluster/local-cluster.ts).

/**
 * glibc settings for node processes (read only at process start): large buffers get maps of their
 * own and fewer arenas exist, which keeps the native heap from fragmenting under 100 KB-1 MB
 * frames and 10 MB snapshots. Measured: the main heap stayed near 92 MB instead of 250-530 MB.
 */
export const NODE_MALLOC_ENV = { MALLOC_MMAP_THRESHOLD_: '131072', MALLOC_ARENA_MAX: '2' } as const;

/**
 * V8 settings for node processes, as `npm run node` passes them too. A young generation of 4 MB
 * semi-spaces instead of 16: a node's garbage is mostly frames and commands that die within a
 * turn, so scavenging more often costs nothing measurable, and it saves 40-50 MB of resident
 * size (W1, 3 runs each: peak RSS of the largest node 357 -> 313 MB, throughput 18.4k -> 19.1k/s).
 * V8 takes them only at process start (`v8.setFlagsFromString` later leaves the heap as it is), so
 * `quorumq node` started from a shell needs them in NODE_OPTIONS.
 */
export const NODE_V8_FLAGS = ['--max-semi-space-size=4'] as const;
