import { pgliteSuiteDatabase } from '../app/suite-databases.ts';
import { describeConsumerGroupLimits } from './fixtures/group-limits-suite.ts';

describeConsumerGroupLimits('PGlite', pgliteSuiteDatabase);
