import { scripts } from './scripts/keys';
import { describeUnorderedDifferential } from './unordered';

describeUnorderedDifferential('key commands', scripts);
