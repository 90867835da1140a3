import { Injectable } from '@nestjs/common';

/** Whether this instance takes new work: false from the moment it starts shutting down. */
@Injectable()
export class Readiness {
  private draining = false;

  get accepting(): boolean {
    return !this.draining;
  }

  drain(): void {
    this.draining = true;
  }
}
