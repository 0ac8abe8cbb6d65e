import { createStrata, type Strata } from '@strata/browser';
import { newKsuid } from '@strata/core';
import { afterEach, describe, expect, it } from 'vitest';
import { userEvent } from 'vitest/browser';
import { render } from 'vitest-browser-svelte';
import App from './App.svelte';
import { todoList, todoTables } from './todo-list.ts';

let strata: Strata | undefined;
afterEach(async () => {
  strata?.close();
  await strata?.db.delete();
  window.location.hash = '';
});

async function renderApp() {
  strata = await createStrata({
    name: `todo-svelte-${newKsuid()}`,
    tables: todoTables,
    projections: [todoList],
  });
  return render(App, { strata });
}

describe('the Svelte TodoMVC example', () => {
  it('adds, completes, filters and clears todos; empty states are hidden, not removed', async () => {
    const screen = await renderApp();
    // Hidden elements are out of the accessibility tree, so these are found by their class.
    const [main, footer, clear] = ['.main', '.footer', '.clear-completed'].map((selector) => {
      const element = screen.container.querySelector(selector);
      expect(element, selector).toBeInstanceOf(HTMLElement);
      return element as HTMLElement;
    }) as [HTMLElement, HTMLElement, HTMLElement];
    await expect.element(screen.getByText('Local only')).toBeVisible();
    await expect.element(main).not.toBeVisible();
    await expect.element(footer).not.toBeVisible();
    await expect.element(clear).not.toBeVisible();

    const input = screen.getByPlaceholder('What needs to be done?');
    await input.fill('Buy milk');
    await userEvent.keyboard('{Enter}');
    await input.fill('Walk dog');
    await userEvent.keyboard('{Enter}');
    await expect.element(screen.getByText('2 items left')).toBeVisible();
    await expect.element(main).toBeVisible();
    await expect.element(clear).not.toBeVisible();

    await screen
      .getByRole('listitem')
      .filter({ hasText: 'Buy milk' })
      .getByRole('checkbox')
      .click();
    await expect.element(screen.getByText('1 item left')).toBeVisible();
    window.location.hash = '#/completed';
    await expect.element(screen.getByRole('link', { name: 'Completed' })).toHaveClass('selected');
    await expect.poll(() => screen.container.querySelectorAll('.todo-list li').length).toBe(1);

    await expect.element(clear).toBeVisible();
    await screen.getByRole('button', { name: 'Clear completed' }).click();
    window.location.hash = '#/';
    await expect.element(screen.getByText('Walk dog')).toBeVisible();
    await expect.poll(() => screen.container.querySelectorAll('.todo-list li').length).toBe(1);
    await expect.element(clear).not.toBeVisible();
  });
});
