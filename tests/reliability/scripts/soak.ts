// `pnpm soak` (issue 13 fills this in)
console.log('soak: not written yet');
