//! The search page at `/`: a search box for agents, as fast as typing, and a ticket box that
//! shows what the bot would decide. One static page; everything it shows comes from the API.

use axum::response::Html;

pub async fn index() -> Html<&'static str> {
    Html(PAGE)
}

const PAGE: &str = r#"<!doctype html>
<html lang="zh"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>deflect</title>
<style>
body{font-family:system-ui,sans-serif;margin:0;background:#f6f7f9;color:#222}
header{background:#1f3a5f;color:#fff;padding:12px 24px;font-size:20px}
main{display:flex;gap:24px;padding:16px 24px}
#left{flex:3}#right{flex:2}
input,textarea{width:100%;box-sizing:border-box;font-size:16px;padding:8px;border:1px solid #bbb;border-radius:6px}
.hit{background:#fff;border-radius:6px;padding:10px 14px;margin:10px 0;box-shadow:0 1px 2px #0001}
.hit a{font-weight:600;color:#1f3a5f;text-decoration:none}.meta{color:#777;font-size:12px}
mark{background:#ffe58a}.facets span{display:inline-block;margin:2px 6px 2px 0;font-size:12px;background:#e8edf3;padding:2px 6px;border-radius:10px;cursor:pointer}
pre{white-space:pre-wrap;background:#fff;padding:10px;border-radius:6px}
button{margin-top:6px;padding:6px 14px;font-size:15px}
</style></head><body>
<header>deflect · 知识库搜索与自动应答</header>
<main><div id="left">
<input id="q" placeholder="搜索知识库，例如：ECS 重启后 ssh 连不上" autofocus>
<div class="facets" id="facets"></div><div id="hits"></div></div>
<div id="right"><textarea id="ticket" rows="6" placeholder="粘贴一个工单，看看 deflect 会怎么处理"></textarea>
<button id="go">自动应答 /v1/answer</button><pre id="answer"></pre></div></main>
<script>
const q=document.getElementById('q'),hits=document.getElementById('hits'),facets=document.getElementById('facets');
let timer=null,filter={};
function esc(s){return String(s).replace(/[&<>"']/g,c=>({'&':'&amp;','<':'&lt;','>':'&gt;','"':'&quot;',"'":'&#39;'}[c]))}
async function run(){
  const p=new URLSearchParams({q:q.value,limit:10,facets:true});for(const k in filter)p.set(k,filter[k]);
  if(!q.value.trim()){hits.innerHTML='';facets.innerHTML='';return}
  const r=await fetch('/v1/search?'+p);const j=await r.json();
  if(!r.ok){hits.innerHTML='<p>'+esc(j.error.message)+'</p>';return}
  facets.innerHTML=Object.entries(j.facets).map(([k,v])=>Object.entries(v).map(([n,c])=>`<span data-k="${esc(k)}" data-v="${esc(n)}">${esc(k)}: ${esc(n)} (${c})</span>`).join('')).join('')+(Object.keys(filter).length?'<span data-clear="1">✕ 清除筛选</span>':'');
  hits.innerHTML=`<p class="meta">${j.total} 条结果 · ${j.took_ms.toFixed(1)} ms</p>`+j.hits.map(h=>`<div class="hit"><a href="/v1/articles/${encodeURIComponent(h.id).replace(/%2F/g,'/')}" target="_blank">${esc(h.title)}</a><div class="meta">${esc(h.category||'')} · ${esc(h.product||'')} · ${esc(h.id)}</div><div>${h.snippet}</div></div>`).join('');
}
facets.onclick=e=>{const t=e.target;if(t.dataset.clear){filter={}}else if(t.dataset.k){filter[t.dataset.k==='tags'?'tags':t.dataset.k]=t.dataset.v}run()};
q.oninput=()=>{clearTimeout(timer);timer=setTimeout(run,120)};
document.getElementById('go').onclick=async()=>{
  const r=await fetch('/v1/answer',{method:'POST',headers:{'content-type':'application/json'},body:JSON.stringify({ticket:{body:document.getElementById('ticket').value}})});
  const j=await r.json();const a=document.getElementById('answer');
  if(!r.ok){a.textContent=j.error.message;return}
  a.textContent=`决定: ${j.decision}  置信度: ${j.confidence.toFixed(2)}  优先级: ${j.classification.priority}\n\n`+(j.decision==='escalate'?`转交 ${j.escalation.tier} ${j.escalation.team}（${j.escalation.reason}），SLA ${j.escalation.sla_minutes} 分钟\n\n`:'')+(j.reply?j.reply.text:'')+(j.missing_info.length&&j.decision!=='escalate'?'\n\n仍需信息:\n'+j.missing_info.map(m=>'- '+m.question).join('\n'):'');
};
</script></body></html>"#;
