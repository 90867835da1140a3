import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AccessModule } from '../access/access.module';
import { AuditModule } from '../audit/audit.module';
import { MetricsModule } from '../metrics/metrics.module';
import { UserEntity } from './entities/user.entity';
import { PasswordHasher } from './password-hasher.service';
import { UserProvisioner } from './user-provisioner.service';
import { UsersController } from './users.controller';
import { UsersService } from './users.service';

/** The user store and its admin endpoints (guarded by AccessModule's AdminGuard). Imported by TokenModule. */
@Module({
  imports: [TypeOrmModule.forFeature([UserEntity]), AccessModule, AuditModule, MetricsModule],
  controllers: [UsersController],
  providers: [UsersService, PasswordHasher, UserProvisioner],
  exports: [UsersService, PasswordHasher, UserProvisioner],
})
export class UsersModule {}
