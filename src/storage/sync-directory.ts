import { open } from 'node:fs/promises';

/** Makes a rename or a new file in `directory` durable: without it, a power loss may undo them. */
export async function syncDirectory(directory: string): Promise<void> {
  const handle = await open(directory, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
