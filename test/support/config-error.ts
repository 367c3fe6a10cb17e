import { ClusterError } from '../../src/shared/index.ts';

/** The ClusterError that building a config throws, or undefined when it builds; other errors pass through. */
export function configError(build: () => unknown): ClusterError | undefined {
  try {
    build();
  } catch (error) {
    if (error instanceof ClusterError) return error;
    throw error;
  }
  return undefined;
}
