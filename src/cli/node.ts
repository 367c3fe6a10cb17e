// One quorumq peer: `npm run node -- --port N` (from source, with tsx), what `quorumq node` runs too.
// Every node runs this same program; launchers start this file so that the PID they hold is the node.
import { runNode } from './node-runner.ts';

await runNode(process.argv.slice(2));
