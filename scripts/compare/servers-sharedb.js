// A ShareDB 7 server on its in-memory database (MemoryDB, MemoryPubSub)
// behind a websocket server: what ShareDB's examples run. PORT and HOST
// from the environment; prints "ready" once it listens.
'use strict'
const http = require('http')
const ShareDB = require('sharedb')
const WebSocket = require('ws')
const WebSocketJSONStream = require('@teamwork/websocket-json-stream')

const backend = new ShareDB()
const server = http.createServer()
const wss = new WebSocket.Server({ server })
wss.on('connection', (ws) => backend.listen(new WebSocketJSONStream(ws)))
server.listen(Number(process.env.PORT), process.env.HOST || '127.0.0.1', () => {
  console.log('ready')
})
