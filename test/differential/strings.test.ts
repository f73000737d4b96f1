import { scripts } from './scripts/strings';
import { describeUnorderedDifferential } from './unordered';

describeUnorderedDifferential('string commands', scripts);
