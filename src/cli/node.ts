// The node entry point. The consensus core exists; storage, transport and the client APIs that
// turn it into a runnable node are the next milestone, so this says so plainly instead of pretending.
console.error('quorumq: the runnable node is not built yet. Today the Raft core and its simulator are: run `npm test` or `npm run sim`.');
process.exit(1);
