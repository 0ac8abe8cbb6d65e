import { neonSuiteDatabase } from '../app/suite-databases.ts';
import { describeConsumerGroupLimits } from './fixtures/group-limits-suite.ts';

describeConsumerGroupLimits('Postgres (Neon driver)', neonSuiteDatabase);
