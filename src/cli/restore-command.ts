// `quorumq restore FILE --data-dir DIR [--port N]`: offline, seeds a new data directory from a
// backup. The node started on it is a new cluster of one under a new identity, grown by gossip.
import { readdir } from 'node:fs/promises';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { BadBackup, readBackupFile } from './backup-file.ts';
import type { CommandIo } from './operator-commands.ts';
import { UsageError } from './usage-error.ts';

export const RESTORE_USAGE = `usage: quorumq restore FILE --data-dir DIR [--port N]
  Seeds the new, empty data directory DIR from the backup FILE (quorumq backup), offline. The file's
  checksum is checked first: a damaged or cut-short file is refused, and so is a directory that is
  not empty. A node started on DIR is a new cluster of one, at the backup's index, under a new
  identity: nodes of the cluster the backup came from are refused, and never merge with it.
  --port N   the port the node will listen on: only used in the start command printed at the end`;

/** Exit statuses, as the operator commands use them. */
const EXIT = { ok: 0, failed: 1, usage: 2 } as const;

export async function runRestore(argv: readonly string[], io: CommandIo): Promise<number> {
  let file: string;
  let dataDir: string;
  let port: string | undefined;
  try {
    const { values, positionals } = parseArgs({
      args: [...argv],
      options: { 'data-dir': { type: 'string' }, port: { type: 'string' }, help: { type: 'boolean', default: false } },
      strict: true,
      allowPositionals: true,
    });
    if (values.help === true) {
      io.stdout(RESTORE_USAGE);
      return EXIT.ok;
    }
    if (positionals.length !== 1) throw new UsageError('restore needs exactly one FILE');
    if (values['data-dir'] === undefined) throw new UsageError('restore needs --data-dir DIR');
    if (values.port !== undefined && !/^\d{1,5}$/.test(values.port)) throw new UsageError('--port must be a port number');
    file = positionals[0]!;
    dataDir = resolve(values['data-dir']);
    port = values.port;
  } catch (error) {
    io.stderr(`quorumq: ${error instanceof Error ? error.message : String(error)}\n${RESTORE_USAGE}`);
    return EXIT.usage;
  }
  const entries = await readdir(dataDir).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return [];
    throw error;
  });
  if (entries.length > 0) {
    io.stderr(`quorumq: ${dataDir} is not empty: a restore only seeds a new data directory (it never overwrites one)`);
    return EXIT.failed;
  }
  let backup: Awaited<ReturnType<typeof readBackupFile>>;
  try {
    backup = await readBackupFile(file, true);
  } catch (error) {
    if (!(error instanceof BadBackup) && (error as NodeJS.ErrnoException).code === undefined) throw error;
    io.stderr(`quorumq: refusing to restore ${file}: ${(error as Error).message}`);
    return EXIT.failed;
  }
  const { header, state } = backup;
  if (state === undefined || header.index === 0) {
    io.stderr(`quorumq: refusing to restore ${file}: it holds no cluster state (index 0)`);
    return EXIT.failed;
  }
  // Loaded only now: the node's storage addon, as for `quorumq node`.
  const { seedRestoredDirectory } = await import('../server/index.ts');
  const { id, founders } = await seedRestoredDirectory(dataDir, { data: state, index: header.index, term: header.term });
  const start = `quorumq node --data-dir ${dataDir} --port ${port ?? 'N'} --bootstrap-expect 0`;
  io.stdout(
    [
      `restored index ${header.index} (term ${header.term}, taken ${header.createdAt}) into ${dataDir}`,
      `node ${id}, a new cluster of one (founders ${founders.join(',')}): the cluster the backup came from is refused by it`,
      `start it:  ${start}`,
      `then grow it: start blank nodes with --seeds <its host>:${port ?? 'N'} --bootstrap-expect 0`,
    ].join('\n'),
  );
  return EXIT.ok;
}
