/**
 * MongoDB views in a `mongoSource` backup. A view (`listCollections` entry `type: 'view'`, its
 * definition in `options.viewOn` / `options.pipeline`) holds no documents: it is read from the
 * collection it is defined on. A backup leaves each view out and says so, once per view, in the
 * manifest's `warnings` (repeated by every restore and drill of the backup) and in the run's
 * result, never silently; naming a view in `collections` is refused.
 */
import { invalidOption } from '@steadyfn/handler/internal';

/**
 * The stable code that starts each warning line about a view a backup left out:
 * `MONGODB_VIEW_NOT_BACKED_UP: view "<name>" on "<viewOn>" …`.
 */
export const VIEW_NOT_BACKED_UP = 'MONGODB_VIEW_NOT_BACKED_UP';

/** A `listCollections` entry (`nameOnly: false`) as this source reads it. */
export interface ListedCollection {
  name: string;
  type?: string;
  options?: Record<string, unknown>;
}

/** Whether a `listCollections` entry is a view. */
export function isView(entry: ListedCollection): boolean {
  return entry.type === 'view';
}

/** The collection (or view) a view reads from, as a string for messages (`?` when not given). */
function viewOnOf(view: ListedCollection): string {
  const on = view.options?.viewOn;
  return typeof on === 'string' ? on : '?';
}

/**
 * The warning line for one view left out of a backup (its name and `viewOn`, never its pipeline:
 * a pipeline may hold values of the application's data).
 */
export function viewWarning(view: ListedCollection): string {
  return `${VIEW_NOT_BACKED_UP}: view ${JSON.stringify(view.name)} on ${JSON.stringify(viewOnOf(view))} is not backed up (a view holds no documents): a restore does not recreate it; recreate it with db.createCollection(name, { viewOn, pipeline })`;
}

/**
 * Refuses a `collections` list naming views, naming each view and what it is defined on.
 * @throws {ConfigurationError} `collections` names a view (field `collections`)
 */
export function refuseNamedViews(asked: string[] | undefined, views: ListedCollection[], database: string): void {
  const named = views.filter((view) => asked?.includes(view.name));
  if (named.length === 0) return;
  const which = named.map((view) => `${JSON.stringify(view.name)} is a view on ${JSON.stringify(viewOnOf(view))}`).join(', ');
  invalidOption('mongoSource', 'collections', `names of collections of database "${database}", not views (${which}: a view holds no documents; back up the collection it is defined on)`, asked);
}
