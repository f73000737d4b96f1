/**
 * the set
 * command scripts against respql on both backends, compared with redis-server 7.0 through
 * the shapes of ./shapes.ts. DIFF_REFERENCE_ONLY=1 checks the scripts on redis-server alone.
 */
import { scripts } from './scripts/sets';
import { describeShapedDifferential } from './shapes';

describeShapedDifferential('set commands', scripts);
