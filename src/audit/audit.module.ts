import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AuditController } from './audit.controller';
import { AuditReader } from './audit-reader.service';
import { AuditService } from './audit.service';
import { AuditEventEntity } from './entities/audit-event.entity';

@Module({
  imports: [TypeOrmModule.forFeature([AuditEventEntity])],
  controllers: [AuditController],
  providers: [AuditService, AuditReader],
  exports: [AuditService],
})
export class AuditModule {}
