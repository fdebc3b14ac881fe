/* global Chart */
'use strict';
(function () {
  const refreshMs = Number(document.body.dataset.refreshMs) || 5000;
  const colors = { sent: '#38bdf8', delivered: '#22c55e', read: '#a78bfa', failed: '#ef4444', pending: '#f59e0b', target: '#f8fafc' };
  const palette = ['#38bdf8', '#22c55e', '#a78bfa', '#f59e0b', '#ef4444', '#14b8a6', '#e879f9', '#facc15'];
  Chart.defaults.color = '#94a3b8';
  Chart.defaults.borderColor = '#1e293b';
  Chart.defaults.animation = false;
  const charts = {};
  const el = (id) => document.getElementById(id);
  const fmtInt = (n) => Number(n).toLocaleString('en-US');
  const fmtPct = (r) => (r === null || r === undefined ? '–' : (r * 100).toFixed(2) + '%');
  const usd = (micros) => '$' + (micros / 1e6).toFixed(2);
  const NOT_REPORTED = 'not reported';

  function fillTable(id, rows) {
    el(id)
      .querySelector('tbody')
      .replaceChildren(
        ...rows.map((cells) => {
          const tr = document.createElement('tr');
          for (const v of cells) {
            const td = document.createElement('td');
            td.textContent = v;
            if (v === NOT_REPORTED) td.className = 'na';
            tr.appendChild(td);
          }
          return tr;
        }),
      );
  }

  function renderSenders(senders) {
    fillTable(
      'senders',
      senders.map((s) => [
        s.sender,
        s.achievedMps.toFixed(2),
        s.allowedMps === null ? NOT_REPORTED : fmtInt(s.allowedMps),
        s.quality === null ? NOT_REPORTED : s.quality,
        s.messagingLimit === null
          ? fmtInt(s.portfolioRecipients24h) + ' / ' + NOT_REPORTED
          : fmtPct(s.limitUse) + ' (' + fmtInt(s.portfolioRecipients24h) + ' / ' + fmtInt(s.messagingLimit) + ')',
        fmtInt(s.throttled130429) + ' / ' + fmtInt(s.pairLimited131056),
      ]),
    );
  }

  // State, audience, progress and unsent jobs from the campaign's record; without one, progress of the jobs analytics saw.
  function campaignRecordCells(c) {
    const r = c.record;
    if (r && typeof r === 'object') {
      const eta = r.etaSeconds === null ? '' : ' · ETA ' + Math.ceil(r.etaSeconds / 60) + ' min';
      return [r.state, fmtInt(r.requested), r.progress === null ? '–' : fmtPct(r.progress) + ' of ' + fmtInt(r.jobs) + eta, fmtInt(r.pending)];
    }
    const seen = c.requested === 0 ? '–' : fmtPct(c.finished / c.requested) + ' of ' + fmtInt(c.requested) + ' seen';
    return [r === 'none' ? 'no record' : 'unavailable', '–', seen, '–'];
  }

  function renderScope(scope) {
    if (!scope) return;
    el('s-throughput').textContent = scope.throughput;
    el('s-funnel').textContent = scope.window;
    el('s-rate').textContent = scope.window;
    el('s-cost-category').textContent = scope.cost;
    el('s-cost-country').textContent = scope.cost;
    el('s-cost-message').textContent = scope.cost;
    el('s-senders').textContent = scope.senders;
    el('s-campaigns').textContent = scope.campaigns;
  }

  function chart(id, config) {
    if (charts[id]) {
      charts[id].data = config.data;
      charts[id].update();
    } else {
      charts[id] = new Chart(el(id), { ...config, options: { responsive: true, maintainAspectRatio: false, ...(config.options || {}) } });
    }
  }

  function render(d) {
    const f = d.funnel || { messages: 0, delivered: 0, read: 0, failed: 0, pending: 0, deliveryRate: null };
    el('t-messages').textContent = fmtInt(f.messages);
    el('t-delivered').textContent = fmtInt(f.delivered);
    el('t-failed').textContent = fmtInt(f.failed);
    el('t-rate').textContent = fmtPct(f.deliveryRate);
    el('t-rate').className = 'v ' + (f.deliveryRate === null ? '' : f.deliveryRate >= 0.99 ? 'good' : 'bad');
    const spend = d.costByCategory.reduce((n, r) => n + r.spendMicros, 0);
    el('t-spend').textContent = usd(spend);
    renderScope(d.scope);
    renderSenders(d.senders || []);

    const t = d.throughput;
    const labels = t.map((p) => p.t.slice(11, 16));
    chart('c-throughput', {
      type: 'line',
      data: {
        labels,
        datasets: ['sent', 'delivered', 'read', 'failed'].map((k) => ({
          label: k,
          data: t.map((p) => p[k]),
          borderColor: colors[k],
          backgroundColor: colors[k],
          tension: 0.2,
          pointRadius: 0,
        })),
      },
    });
    chart('c-funnel', {
      type: 'bar',
      data: {
        labels: ['sent', 'delivered', 'read', 'failed', 'pending'],
        datasets: [
          {
            label: 'messages',
            data: [f.messages, f.delivered, f.read, f.failed, f.pending],
            backgroundColor: [colors.sent, colors.delivered, colors.read, colors.failed, colors.pending],
          },
        ],
      },
      options: { plugins: { legend: { display: false } } },
    });
    const hours = d.hourly.map((h) => h.key.slice(5, 13).replace('T', ' '));
    chart('c-rate', {
      type: 'line',
      data: {
        labels: hours,
        datasets: [
          {
            label: 'delivery rate %',
            data: d.hourly.map((h) => (h.deliveryRate === null ? null : +(h.deliveryRate * 100).toFixed(3))),
            borderColor: colors.delivered,
            backgroundColor: colors.delivered,
            pointRadius: 2,
          },
          { label: '99% target', data: d.hourly.map(() => 99), borderColor: colors.target, borderDash: [6, 4], pointRadius: 0 },
        ],
      },
      options: { scales: { y: { suggestedMin: 95, suggestedMax: 100 } } },
    });
    chart('c-cost-category', {
      type: 'doughnut',
      // The legend carries the amounts, so the donut reads as figures and not only proportions.
      data: {
        labels: d.costByCategory.map((r) => r.key + ' ' + usd(r.spendMicros) + ' · ' + fmtInt(r.billableUnits) + ' billable'),
        datasets: [{ data: d.costByCategory.map((r) => r.spendMicros / 1e6), backgroundColor: palette }],
      },
      options: { plugins: { legend: { position: 'bottom' }, tooltip: { callbacks: { label: (ctx) => ' $' + ctx.parsed.toFixed(2) } } } },
    });
    chart('c-cost-country', {
      type: 'bar',
      data: {
        labels: d.costByCountry.map((r) => r.key),
        datasets: [{ label: 'USD', data: d.costByCountry.map((r) => r.spendMicros / 1e6), backgroundColor: colors.sent }],
      },
      options: { plugins: { legend: { display: false } } },
    });
    fillTable(
      'cost-message',
      (d.costByMessage || []).map((r) => [r.messageType, r.template || '–', fmtInt(r.billableUnits), fmtInt(r.freeUnits), r.spendUsd]),
    );
    fillTable(
      'campaigns',
      d.campaigns.map((c) => [
        c.campaignId,
        ...campaignRecordCells(c),
        fmtInt(c.funnel.messages),
        fmtInt(c.funnel.delivered),
        fmtInt(c.funnel.read),
        fmtInt(c.funnel.failed),
        fmtInt(typeof c.record === 'object' ? c.record.cancelled : c.cancelled),
        fmtInt(c.funnel.pending),
        fmtPct(c.funnel.deliveryRate),
        c.cost.spendUsd,
      ]),
    );
  }

  async function tick() {
    try {
      const res = await fetch('/v1/dashboard');
      if (!res.ok) throw new Error('HTTP ' + res.status);
      const d = await res.json();
      render(d);
      el('status').textContent = 'updated ' + new Date(d.generatedAt).toLocaleTimeString() + ' · every ' + refreshMs / 1000 + ' s';
      document.body.dataset.loaded = 'true';
    } catch (err) {
      el('status').textContent = 'update failed: ' + err.message;
    } finally {
      setTimeout(tick, refreshMs);
    }
  }
  tick();
})();
