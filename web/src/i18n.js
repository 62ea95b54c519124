// zh-CN first, English second; the choice is kept in localStorage.
import { createI18n } from 'vue-i18n';

const messages = {
  'zh-CN': {
    app: { name: '守夜', tagline: '客户服务与业务保障' },
    nav: { admin: '系统设置', workbench: '客户工作台', queue: '二线队列', wallboard: '监控大屏', incidents: '故障', quality: '质量图谱', audit: '审计', logout: '退出' },
    login: { title: '登录守夜', username: '用户名', password: '密码', submit: '登录', failed: '登录失败：{msg}', expired: '会话已过期，请重新登录' },
    wb: {
      search: '来电号码（可输入前几位）', find: '查询', none: '没有找到客户', profile: '客户资料', level: '客户等级', vip: 'VIP',
      area: '区域', attachment: '接入点', status: '状态', products: '套餐与叠加包', balance: '余额', available: '可用余额',
      allowances: '剩余量', line: '线路状态', online: '在线', offline: '离线', openOrders: '在途工单', recent: '近期工单',
      noOrders: '无', segments: '重点客户标签', incident: '已知故障', incidentBanner: '{level}级故障「{name}」正在{stage}，预计恢复：{eta}',
      unknownEta: '待定', create: '新建工单', type: '工单类型', category: '类别', service: '业务', description: '问题描述', channel: '渠道',
      submit: '提交', created: '工单 {id} 已创建：{stage}', attached: '已关联故障 {incident}，恢复后将短信告知客户', dispatched: '已派发至 {group}',
      resolve: '一线解决', resolved: '已一线解决', bills: '近6个月账单', records: '详单（近3个月）', allTypes: '全部类型', vas: '增值业务',
      types: { complaint: '投诉', faultReport: '故障报修', consultation: '咨询', serviceRequest: '业务办理', inquiry: '查询', suggestion: '建议' },
    },
    q: { redispatch: '转派', group: '班组', type: '类型', stage: '阶段', due: '距超时', empty: '队列为空', note: '备注', internal: '内部备注', customer: '客户可见', add: '添加备注', timeline: '处理轨迹',
      to: { accepted: '受理', inProgress: '开始处理', feedback: '反馈结果', pending: '挂起' } },
    adm: { plans: '应急预案', lines: '投诉预警线', probes: '拨测', thresholds: '阈值', rules: '派单规则', policies: 'SLA策略', groups: '班组', users: '用户', new: '新增', edit: '编辑', save: '保存', saved: '已保存', delete: '删除' },
    aud: { time: '时间', actor: '操作人', action: '动作', entity: '对象', diff: '前后对比' },
    qm: { title: '业务质量图谱（业务 × 区域）', level: '区域层级', hours: '时间窗（小时）', legend: '绿：正常 黄：有告警或投诉偏高 红：有在途故障或拨测成功率低于90% 灰：无数据' },
    inc: { dialTests: '拨测', affectedList: '影响用户（前10，按VIP与等级）', optedOut: '已退订', notif: '开通知 {openQueued} · 未通知 {notNotified} · 待排队 {toQueue} · 恢复通知 {restoreQueued} · 来电承诺 {promisedOnContact}', area: '影响区域（网格热力，按用户数与健康度）', list: '当前故障', level: '级别', stage: '阶段', suspect: '疑似故障点', affected: '影响用户', opened: '发现时间', eta: '预计恢复', none: '当前无故障', tickets: '关联工单', alarms: '告警', notifications: '通知', tracking: '处理记录' },
    wall: { escalated: '在途升级工单', title: '监控大屏', byStage: '工单阶段分布', sla: 'SLA 预警 / 超时', incidents: '在途故障（按级别）', sms: '已发短信', events: '实时事件' },
    common: { loading: '加载中…', error: '出错了：{msg}', lang: 'English' },
  },
  en: {
    app: { name: 'Shouye', tagline: 'Customer care and service assurance' },
    nav: { admin: 'Settings', workbench: 'Workbench', queue: 'Queue', wallboard: 'Wallboard', incidents: 'Incidents', quality: 'Quality map', audit: 'Audit', logout: 'Log out' },
    login: { title: 'Sign in to Shouye', username: 'Username', password: 'Password', submit: 'Sign in', failed: 'Sign-in failed: {msg}', expired: 'Your session expired; please sign in again' },
    wb: {
      search: 'Caller number (or its first digits)', find: 'Search', none: 'No customer found', profile: 'Profile', level: 'Level', vip: 'VIP',
      area: 'Area', attachment: 'Attached to', status: 'Status', products: 'Plan and packs', balance: 'Balance', available: 'Available',
      allowances: 'Allowances left', line: 'Line', online: 'online', offline: 'offline', openOrders: 'Open work orders', recent: 'Recent work orders',
      noOrders: 'none', segments: 'Segments', incident: 'Known incident', incidentBanner: 'Level {level} incident “{name}” — {stage}; expected restore: {eta}',
      unknownEta: 'not yet known', create: 'New work order', type: 'Type', category: 'Category', service: 'Service', description: 'Description', channel: 'Channel',
      submit: 'Submit', created: 'Work order {id} created: {stage}', attached: 'Attached to incident {incident}; the customer will be texted on restore', dispatched: 'Dispatched to {group}',
      resolve: 'Resolve at first line', resolved: 'Resolved at first line', bills: 'Bills, last 6 months', records: 'Records (3 months)', allTypes: 'all types', vas: 'Value-added services',
      types: { complaint: 'Complaint', faultReport: 'Fault report', consultation: 'Consultation', serviceRequest: 'Service request', inquiry: 'Inquiry', suggestion: 'Suggestion' },
    },
    q: { redispatch: 'Re-dispatch', group: 'Group', type: 'Type', stage: 'Stage', due: 'Due in', empty: 'The queue is empty', note: 'Note', internal: 'Internal', customer: 'Customer-visible', add: 'Add note', timeline: 'Timeline',
      to: { accepted: 'Accept', inProgress: 'Start work', feedback: 'Give feedback', pending: 'Put on hold' } },
    adm: { plans: 'Emergency plans', lines: 'Warning lines', probes: 'Dial-tests', thresholds: 'Thresholds', rules: 'Dispatch rules', policies: 'SLA policies', groups: 'Groups', users: 'Users', new: 'New', edit: 'Edit', save: 'Save', saved: 'Saved', delete: 'Delete' },
    aud: { time: 'Time', actor: 'Actor', action: 'Action', entity: 'Entity', diff: 'Before / after' },
    qm: { title: 'Service quality map (service × area)', level: 'Area level', hours: 'Window (hours)', legend: 'green: normal · yellow: alarms or many complaints · red: open incident or dial-tests under 90 % · grey: no data' },
    inc: { dialTests: 'Dial-tests', affectedList: 'Affected (first 10, VIPs first)', optedOut: 'opted out', notif: 'told {openQueued} · not told {notNotified} · to queue {toQueue} · restore sent {restoreQueued} · promised on contact {promisedOnContact}', area: 'Affected area (grids sized by subscribers, coloured by health)', list: 'Open incidents', level: 'Level', stage: 'Stage', suspect: 'Suspected element', affected: 'Affected', opened: 'Opened', eta: 'Expected restore', none: 'No open incidents', tickets: 'Work orders', alarms: 'Alarms', notifications: 'Notifications', tracking: 'Tracking' },
    wall: { escalated: 'Open escalated work orders', title: 'Wallboard', byStage: 'Work orders by stage', sla: 'SLA warnings / breaches', incidents: 'Open incidents by level', sms: 'SMS sent', events: 'Live events' },
    common: { loading: 'Loading…', error: 'Error: {msg}', lang: '中文' },
  },
};

export const i18n = createI18n({ legacy: false, locale: localStorage.getItem('shouye.lang') || 'zh-CN', fallbackLocale: 'zh-CN', messages });

export function toggleLang() {
  const next = i18n.global.locale.value === 'zh-CN' ? 'en' : 'zh-CN';
  i18n.global.locale.value = next;
  localStorage.setItem('shouye.lang', next);
  document.documentElement.lang = next;
}
