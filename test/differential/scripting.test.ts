import { describeDifferential } from '../support/differential';
import { scripts } from './scripts/scripting';

describeDifferential('scripting (EVAL, SCRIPT, FUNCTION)', scripts);
