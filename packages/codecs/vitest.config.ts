import { project } from '../../vitest.shared';

export default project(import.meta.dirname);
