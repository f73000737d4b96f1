/**
 * PENDING (rename to hashes.test.ts when merging with the hashes branch, issue 16): the hash
 * command scripts against respql on both backends, compared with redis-server 7.0 through
 * the shapes of ./shapes.ts. DIFF_REFERENCE_ONLY=1 checks the scripts on redis-server alone.
 */
import { scripts } from './scripts/hashes';
import { describeShapedDifferential } from './shapes';

describeShapedDifferential('hash commands', scripts);
