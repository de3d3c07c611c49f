import { Module } from '@nestjs/common';
import { LeakReports } from './leak-reports.js';

/** Leak reports from GitHub's secret scanning partner program. */
@Module({ providers: [LeakReports], exports: [LeakReports] })
export class SecretScanningModule {}
