// The formatter ships with `quorumq cluster`; the repository's launcher uses the same one.
export { formatLine } from '../src/cli/log-format.ts';
