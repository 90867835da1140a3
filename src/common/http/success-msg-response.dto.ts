import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';

/** The `{ success, msg }` answer of an endpoint that changes something and returns no data. */
export class SuccessMsgResponseDto {
  @ApiProperty({ example: true }) success: true;
  @ApiPropertyOptional({ example: 'success' }) msg?: string;
  @ApiPropertyOptional({ example: '2', description: '"2" when the success carries a warning' })
  type?: string;
  @ApiPropertyOptional({ description: 'The warning, when type is "2"' }) warning?: string;
}
