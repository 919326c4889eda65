// `pnpm fuzz` (issue 13 fills this in)
console.log('fuzz: not written yet');
