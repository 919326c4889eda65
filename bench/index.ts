// `pnpm bench`: every benchmark, figures printed side by side (issue 12 grows
// this into the full comparison against DCMTK and dcmjs-dimse).
import { socketCeiling } from './socket-ceiling.js';

const results = [await socketCeiling()];
console.log('\nbenchmark                               median      min      max');
for (const r of results) {
  console.log(
    `${r.name.padEnd(38)} ${r.median.toFixed(0).padStart(7)} ${r.min.toFixed(0).padStart(8)} ${r.max.toFixed(0).padStart(8)}  ${r.unit}`,
  );
}
