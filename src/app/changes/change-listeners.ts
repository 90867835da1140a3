import type { Change, ChangeListener } from '../../changes/change-bus';

/** The listeners of one bus; a listener that throws does not stop the others. */
export class ChangeListeners {
  private readonly listeners = new Set<ChangeListener>();

  add(listener: ChangeListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  emit(change: Change): void {
    for (const listener of this.listeners) {
      try {
        listener(change);
      } catch {
        // A cache that fails to drop an entry still has its TTL.
      }
    }
  }
}
