import type { CSSProperties } from 'react';

// Inline styles only: the panel brings no stylesheet, so it cannot restyle the app, and the
// app's stylesheet reaches it only through inherited properties, which the root resets.

const FONT = 'ui-monospace, SFMono-Regular, Menlo, Consolas, monospace';
const LAYER = 2147483000;

export const toggleStyle: CSSProperties = {
  position: 'fixed',
  right: 12,
  bottom: 12,
  zIndex: LAYER,
  font: `12px/1.4 ${FONT}`,
  padding: '6px 10px',
  border: '1px solid #4b5563',
  borderRadius: 6,
  background: '#111827',
  color: '#f9fafb',
  cursor: 'pointer',
};

export const panelStyle: CSSProperties = {
  position: 'fixed',
  left: 0,
  right: 0,
  bottom: 0,
  height: '45vh',
  zIndex: LAYER,
  display: 'flex',
  flexDirection: 'column',
  boxSizing: 'border-box',
  font: `12px/1.4 ${FONT}`,
  textAlign: 'left',
  letterSpacing: 'normal',
  color: '#e5e7eb',
  background: '#111827',
  borderTop: '2px solid #6366f1',
  boxShadow: '0 -4px 16px rgba(0, 0, 0, 0.35)',
};

export const headerStyle: CSSProperties = {
  display: 'flex',
  alignItems: 'center',
  gap: 8,
  padding: '4px 8px',
  borderBottom: '1px solid #374151',
  flexWrap: 'wrap',
};

export const tabStyle = (selected: boolean): CSSProperties => ({
  font: 'inherit',
  padding: '3px 8px',
  border: '1px solid transparent',
  borderRadius: 4,
  background: selected ? '#374151' : 'transparent',
  color: selected ? '#ffffff' : '#9ca3af',
  cursor: 'pointer',
});

export const bodyStyle: CSSProperties = {
  flex: 1,
  overflow: 'auto',
  padding: 8,
};

export const buttonStyle: CSSProperties = {
  font: 'inherit',
  padding: '2px 8px',
  border: '1px solid #4b5563',
  borderRadius: 4,
  background: '#1f2937',
  color: '#e5e7eb',
  cursor: 'pointer',
};

export const inputStyle: CSSProperties = {
  font: 'inherit',
  padding: '2px 6px',
  border: '1px solid #4b5563',
  borderRadius: 4,
  background: '#030712',
  color: '#e5e7eb',
};

export const rowStyle: CSSProperties = {
  borderBottom: '1px solid #1f2937',
  padding: '2px 0',
};

export const summaryStyle: CSSProperties = {
  cursor: 'pointer',
  whiteSpace: 'nowrap',
  overflow: 'hidden',
  textOverflow: 'ellipsis',
};

export const preStyle: CSSProperties = {
  margin: '4px 0 4px 16px',
  padding: 6,
  maxHeight: 240,
  overflow: 'auto',
  whiteSpace: 'pre-wrap',
  wordBreak: 'break-all',
  background: '#030712',
  borderRadius: 4,
  font: 'inherit',
};

export const mutedStyle: CSSProperties = { color: '#9ca3af' };
export const errorStyle: CSSProperties = { color: '#fca5a5' };
export const pendingStyle: CSSProperties = { color: '#fcd34d' };
export const toolbarStyle: CSSProperties = {
  display: 'flex',
  gap: 8,
  alignItems: 'center',
  flexWrap: 'wrap',
  marginBottom: 6,
};
