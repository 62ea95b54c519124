import { createApp } from 'vue';
import { createRouter, createWebHistory } from 'vue-router';
import App from './App.vue';
import { i18n } from './i18n.js';
import { session, loadMe } from './api.js';
import Login from './views/Login.vue';
import Workbench from './views/Workbench.vue';
// the screens with charts load on demand: the agent's first screen stays small
const Incidents = () => import('./views/Incidents.vue');
const Wallboard = () => import('./views/Wallboard.vue');
const Queue = () => import('./views/Queue.vue');
const Quality = () => import('./views/Quality.vue');
const Admin = () => import('./views/Admin.vue');
const Audit = () => import('./views/Audit.vue');
import './style.css';

const router = createRouter({
  history: createWebHistory(),
  routes: [
    { path: '/', redirect: '/workbench' },
    { path: '/login', component: Login, meta: { public: true } },
    { path: '/workbench', component: Workbench },
    { path: '/incidents', component: Incidents },
    { path: '/incidents/:id', component: Incidents },
    { path: '/wallboard', component: Wallboard },
    { path: '/queue', component: Queue },
    { path: '/quality', component: Quality },
    { path: '/admin', component: Admin },
    { path: '/audit', component: Audit },
    { path: '/:rest(.*)', redirect: '/workbench' },
  ],
});

router.beforeEach(async (to) => {
  if (to.meta.public) return true;
  if (!session.token) return { path: '/login', query: { next: to.fullPath } };
  if (!session.me) {
    try { await loadMe(); } catch { return { path: '/login', query: { next: to.fullPath } }; }
  }
  return true;
});

createApp(App).use(router).use(i18n).mount('#app');
window.__shouyeReady = performance.now();
