/**
 * The transport compliance suite, for any `Transport` implementation
 * (filled in by the transport issue).
 */
export const complianceSuiteName = 'dnet transport compliance';
