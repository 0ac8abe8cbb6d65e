import { describeConsumerGroupLimits } from '../../test/suites/consumer-group-limits-suite.ts';
import { neonSuiteDatabase } from '../../test/suites/suite-databases.ts';

describeConsumerGroupLimits('Postgres (Neon driver)', neonSuiteDatabase);
