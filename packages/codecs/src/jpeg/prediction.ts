/**
 * The lossless predictors of ITU-T T.81 §H.1.2.1, Table H.1, shared by the
 * lossless decoder and encoder (each sample is coded as its difference from
 * this prediction).
 */

/**
 * The prediction of selection value `predictor` (1-7) from the samples to the
 * left (`ra`), above (`rb`) and above-left (`rc`).
 */
export function predict(predictor: number, ra: number, rb: number, rc: number): number {
  switch (predictor) {
    case 1:
      return ra;
    case 2:
      return rb;
    case 3:
      return rc;
    case 4:
      return ra + rb - rc;
    case 5:
      return ra + ((rb - rc) >> 1);
    case 6:
      return rb + ((ra - rc) >> 1);
    default:
      return (ra + rb) >> 1;
  }
}
