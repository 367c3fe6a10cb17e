// The local-cluster launcher arrives with the runnable node; until then it explains itself.
console.error('quorumq: `npm run cluster` arrives with the runnable node. Today: `npm test` and `npm run sim`.');
process.exit(1);
