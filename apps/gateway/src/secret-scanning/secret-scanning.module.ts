import { Module } from '@nestjs/common';
import { KeyManagementModule } from '../key-management/key-management.module.js';
import { LeakReports } from './leak-reports.js';

/** Leak reports from GitHub's secret scanning partner program. */
@Module({ imports: [KeyManagementModule], providers: [LeakReports], exports: [LeakReports] })
export class SecretScanningModule {}
