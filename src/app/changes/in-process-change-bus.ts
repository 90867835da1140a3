import type { Change, ChangeBus, ChangeListener } from '../../changes/change-bus';
import { ChangeListeners } from './change-listeners';

/** The default for a single instance: changes reach this process's listeners only. */
export class InProcessChangeBus implements ChangeBus {
  private readonly listeners = new ChangeListeners();

  publish(change: Change): Promise<void> {
    this.listeners.emit(change);
    return Promise.resolve();
  }

  subscribe(listener: ChangeListener): () => void {
    return this.listeners.add(listener);
  }
}
