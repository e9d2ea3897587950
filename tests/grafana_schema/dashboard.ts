// The types a Grafana dashboard JSON must satisfy: @grafana/schema (Grafana 11.6 and 13.x), made
// JSON-shaped (enums -> their literal values) and narrowed per panel type (options and
// fieldConfig.defaults.custom from the panel plugin's own schema). tests/grafana_schema_check.py
// writes each dashboard as a module of `export const x = <JSON> satisfies CheckedDashboard;`
// (and CheckedPanelOrRow, CheckedVariable, CheckedAnnotation for the list entries) and runs tsc
// over all of them. `satisfies` on an object literal keeps excess-property checks on, so a
// misspelt or unknown key anywhere is an error, like a wrong type or a bad enum value.

import type {
  AnnotationContainer,
  AnnotationQuery,
  DataQuery,
  Dashboard,
  FieldConfig,
  FieldConfigSource,
  Panel,
  RowPanel,
} from '@grafana/schema';

// The panel plugins' own option types, from panelcfg.ts of the package set being checked
// (this folder's for @grafana/schema 11.6, v13/panelcfg.ts for 13.x: the import paths differ).
import type {
  annolist, barchart, bargauge, dashlist, gauge, heatmap, histogram, logs, news, piechart, stat, statetimeline, statushistory, table, text, timeseries, trend,
} from './panelcfg';

type IsAny<T> = 0 extends 1 & T ? true : false;

/**
 * T as JSON can spell it. @grafana/schema declares TS enums, which a JSON string or number
 * literal never satisfies; `${E}` turns a string enum into the union of its literal values
 * (ThresholdsMode -> 'absolute' | 'percentage'), and reading that back as a number turns a
 * numeric enum into its literal values (VariableRefresh -> 0 | 1 | 2). Plain string and number
 * come out unchanged. Objects and arrays are mapped member by member; the mapping is
 * homomorphic, so optional stays optional and required stays required.
 */
export type DeepLiteral<T> =
  IsAny<T> extends true ? T
  : T extends string ? `${T}`
  : T extends number ? (`${T}` extends `${infer N extends number}` ? N : never)
  : T extends boolean | bigint | symbol | null | undefined ? T
  : T extends readonly (infer U)[] ? DeepLiteral<U>[]
  : T extends object ? { [K in keyof T]: DeepLiteral<T[K]> }
  : T;

/** Marker for panel types whose schema declares no custom field config. */
type NoCustom = { readonly __mcgenNoCustom: true };

/** fieldConfig.defaults without `custom`: unit, min, max, thresholds, color, mappings, ... */
type StandardFieldConfig = DeepLiteral<Omit<FieldConfig, 'custom'>>;

type NonUndef<T> = Exclude<T, undefined>;

/**
 * One entry of an override's `properties`: the id names a field config path and fixes the
 * value's type ("unit" -> string, "color" -> FieldColor, "custom.lineWidth" -> number, ...).
 * An id that is no field config path of that panel type is an error.
 */
type OverrideProperty<C> =
  | { [K in keyof StandardFieldConfig]-?: { id: K; value?: NonUndef<StandardFieldConfig[K]> } }[keyof StandardFieldConfig]
  | ([C] extends [NoCustom] ? never
    : { [K in keyof C & string]-?: { id: `custom.${K}`; value?: NonUndef<DeepLiteral<C[K]>> } }[keyof C & string]);

type Override<C> = Omit<DeepLiteral<FieldConfigSource['overrides'][number]>, 'properties'> & {
  properties: Array<OverrideProperty<C>>;
};

type CheckedFieldConfigSource<C> = {
  defaults: StandardFieldConfig & {
    custom?: [C] extends [NoCustom] ? Record<string, never> : DeepLiteral<C>;
  };
  overrides: Array<Override<C>>;
};

/**
 * A data source query (panel targets, an annotation's target). @grafana/schema types only the
 * keys all data sources share (DataQuery: refId, datasource, hide, queryType, key); the rest
 * (a Prometheus query's expr, legendFormat, ...) belongs to the data source plugin, which the
 * schema does not describe, so those keys are open here and nowhere else.
 */
type CheckedQuery = DeepLiteral<DataQuery> & Record<string, unknown>;

type BasePanel = Omit<DeepLiteral<Panel>, 'type' | 'options' | 'fieldConfig' | 'targets'> & {
  targets?: CheckedQuery[];
};

/** A panel of plugin type `T` with its panel-specific options and custom field config. */
type PanelOf<T extends string, O, C> = BasePanel & {
  type: T;
  options?: DeepLiteral<O>;
  fieldConfig?: CheckedFieldConfigSource<C>;
};

/**
 * The panel plugins whose options @grafana/schema types, keyed by their plugin id. A panel
 * of any other type is rejected; add it here (with its *PanelCfg_types.gen module in both
 * panelcfg.ts files) to allow it.
 */
export type PanelTypes = {
  annolist: PanelOf<'annolist', annolist.Options, NoCustom>;
  barchart: PanelOf<'barchart', barchart.Options, barchart.FieldConfig>;
  bargauge: PanelOf<'bargauge', bargauge.Options, NoCustom>;
  dashlist: PanelOf<'dashlist', dashlist.Options, NoCustom>;
  gauge: PanelOf<'gauge', gauge.Options, NoCustom>;
  heatmap: PanelOf<'heatmap', heatmap.Options, heatmap.FieldConfig>;
  histogram: PanelOf<'histogram', histogram.Options, histogram.FieldConfig>;
  logs: PanelOf<'logs', logs.Options, NoCustom>;
  news: PanelOf<'news', news.Options, NoCustom>;
  piechart: PanelOf<'piechart', piechart.Options, piechart.FieldConfig>;
  stat: PanelOf<'stat', stat.Options, NoCustom>;
  'state-timeline': PanelOf<'state-timeline', statetimeline.Options, statetimeline.FieldConfig>;
  'status-history': PanelOf<'status-history', statushistory.Options, statushistory.FieldConfig>;
  table: PanelOf<'table', table.Options, table.FieldConfig>;
  text: PanelOf<'text', text.Options, NoCustom>;
  timeseries: PanelOf<'timeseries', timeseries.Options, timeseries.FieldConfig>;
  trend: PanelOf<'trend', trend.Options, trend.FieldConfig>;
};

/** Any non-row panel, discriminated by `type`. */
export type CheckedPanel = PanelTypes[keyof PanelTypes];

/** A row; a collapsed row carries its panels inside. */
export type CheckedRow = Omit<DeepLiteral<RowPanel>, 'panels'> & { panels: CheckedPanel[] };

export type CheckedPanelOrRow = CheckedPanel | CheckedRow;

/** One entry of annotations.list; its query lives in `target`, not beside it. */
export type CheckedAnnotation = Omit<DeepLiteral<AnnotationQuery>, 'target'> & {
  target?: CheckedQuery;
};

export type CheckedDashboard = Omit<DeepLiteral<Dashboard>, 'panels' | 'annotations'> & {
  panels?: CheckedPanelOrRow[];
  annotations?: Omit<DeepLiteral<AnnotationContainer>, 'list'> & { list?: CheckedAnnotation[] };
};

/** One entry of templating.list. */
export type CheckedVariable = NonNullable<NonNullable<CheckedDashboard['templating']>['list']>[number];
