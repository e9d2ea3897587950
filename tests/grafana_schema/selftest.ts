// Compile-time checks of dashboard.ts itself: each @ts-expect-error line must fail to type-check
// and every other line must pass, so `tsc -p .` proves the enum mapping and excess-property
// checks still work after an upgrade of @grafana/schema or typescript.
import type { CheckedDashboard, DeepLiteral } from './dashboard';
import type { ThresholdsMode, VariableRefresh } from '@grafana/schema';

export const modes: DeepLiteral<ThresholdsMode>[] = ['absolute', 'percentage'];
// @ts-expect-error a string enum accepts only its values
export const badMode: DeepLiteral<ThresholdsMode> = 'percentag';
export const refresh: DeepLiteral<VariableRefresh>[] = [0, 1, 2];
// @ts-expect-error a numeric enum accepts only its values
export const badRefresh: DeepLiteral<VariableRefresh> = 3;

export const ok = {
  schemaVersion: 41,
  title: 'selftest',
  panels: [
    { type: 'row', id: 1, collapsed: false, panels: [] },
    {
      type: 'stat',
      fieldConfig: {
        defaults: { thresholds: { mode: 'absolute', steps: [{ color: 'green', value: null }] } },
        overrides: [{ matcher: { id: 'byName', options: 'x' }, properties: [{ id: 'unit', value: 's' }] }],
      },
    },
    {
      type: 'timeseries',
      fieldConfig: {
        defaults: { custom: { lineWidth: 1 } },
        overrides: [{ matcher: { id: 'byName', options: 'x' }, properties: [{ id: 'custom.fillOpacity', value: 10 }] }],
      },
    },
  ],
} satisfies CheckedDashboard;

export const misspelt = {
  schemaVersion: 41,
  // @ts-expect-error unknown top-level key
  titel: 'x',
} satisfies CheckedDashboard;

export const unknownPanelType = {
  schemaVersion: 41,
  // @ts-expect-error panel type without a schema
  panels: [{ type: 'graph' }],
} satisfies CheckedDashboard;

export const statCustom = {
  schemaVersion: 41,
  panels: [{
    type: 'stat',
    fieldConfig: {
      // @ts-expect-error stat has no custom field config
      defaults: { custom: { lineWidth: 1 } },
      overrides: [],
    },
  }],
} satisfies CheckedDashboard;

export const badOverride = {
  schemaVersion: 41,
  panels: [{
    type: 'timeseries',
    fieldConfig: {
      defaults: {},
      // @ts-expect-error override value of the wrong type
      overrides: [{ matcher: { id: 'byName' }, properties: [{ id: 'custom.lineWidth', value: 'wide' }] }],
    },
  }],
} satisfies CheckedDashboard;
