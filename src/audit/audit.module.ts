import { Module } from '@nestjs/common';
import { getRepositoryToken, TypeOrmModule } from '@nestjs/typeorm';
import { AccessModule } from '../access/access.module';
import { AuditController } from './audit.controller';
import { AuditReader } from './audit-reader.service';
import { AuditService } from './audit.service';
import { AUDIT_WRITER, auditWriterFor } from './audit-writer';
import { AuditEventEntity } from './entities/audit-event.entity';

@Module({
  imports: [TypeOrmModule.forFeature([AuditEventEntity]), AccessModule],
  controllers: [AuditController],
  providers: [
    AuditService,
    AuditReader,
    // The writer for the data source's type (auditWriterFor).
    {
      provide: AUDIT_WRITER,
      inject: [getRepositoryToken(AuditEventEntity)],
      useFactory: auditWriterFor,
    },
  ],
  // AUDIT_WRITER too: TokenModule prunes through it (AuditPruner), with the options it holds.
  exports: [AuditService, AUDIT_WRITER],
})
export class AuditModule {}
