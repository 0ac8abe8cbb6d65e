import { describeConsumerGroupLimits } from '../../test/suites/consumer-group-limits-suite.ts';
import { pgliteSuiteDatabase } from '../../test/suites/suite-databases.ts';

describeConsumerGroupLimits('PGlite', pgliteSuiteDatabase);
