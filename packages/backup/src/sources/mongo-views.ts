/**
 * MongoDB views in a `mongoSource` backup. A view (`listCollections` entry `type: 'view'`, its
 * definition in `options.viewOn` / `options.pipeline` / `options.collation`) holds no documents:
 * it reads the collection it is defined on. A backup saves each view's definition in the
 * manifest's `views` (as mongodump does) and names each view, once, in a warning line of the
 * manifest (repeated by every restore and drill, also by an earlier version's restore, which
 * drops `views` and recreates none) and of the run's result; naming a view in `collections` is refused.
 */
import { invalidOption } from '@steadyfn/handler/internal';
import { EJSON } from 'bson';

/**
 * The stable code that starts each warning line about a view of a backup:
 * `MONGODB_VIEW_DEFINITION_SAVED: view "<name>" on "<viewOn>" …`.
 */
export const VIEW_DEFINITION_SAVED = 'MONGODB_VIEW_DEFINITION_SAVED';

/** A view's definition as the manifest's `views` holds it. */
export interface ViewDefinition {
  name: string;
  viewOn: string;
  /** Canonical Extended JSON v2 text of the pipeline, its keys in the order the driver gave them. */
  pipeline: string;
  collation?: Record<string, unknown>;
}

/** The definition of a listed view, for the manifest. */
export function viewDefinition(view: ListedCollection): ViewDefinition {
  const collation = view.options?.collation;
  return {
    name: view.name,
    viewOn: viewOnOf(view),
    pipeline: EJSON.stringify(view.options?.pipeline ?? [], { relaxed: false }),
    ...(collation !== undefined && collation !== null ? { collation: JSON.parse(EJSON.stringify(collation, { relaxed: false })) as Record<string, unknown> } : {}),
  };
}

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
 * The warning line for one view of a backup (its name and `viewOn`, never its pipeline: a
 * pipeline may hold values of the application's data).
 */
export function viewWarning(view: ListedCollection): string {
  return `${VIEW_DEFINITION_SAVED}: view ${JSON.stringify(view.name)} on ${JSON.stringify(viewOnOf(view))}: no documents backed up (a view holds none), its definition is in the manifest's "views" and a restore recreates it after the collections; a restore by an older @steadyfn/backup than the one that wrote this backup does not: recreate it with db.createCollection(name, { viewOn, pipeline })`;
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
