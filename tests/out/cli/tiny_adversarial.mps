* nnmilp 0.1.0 - Fischetti & Jo 0-1 MILP of a ReLU network
* network: tiny_2-3-2.onnx sha256 b6979604a843183b6a8841bd2d54258a6a0d9f0446ef1a57755dd4070c3dec91
* task: adversarial, minimize L1 distance sum d_j to image tiny_point.npy sha256 f7a5a196c9e0e3b530888cae6be81054ec283203914ef98f11f965de6b3cd813
* target class 0 (margin y_0 >= y_j + 0.2 for all j != 0)
* options: box [0, 1] relu bigm bounds interval max-dist none
* columns: in_j inputs, y_j outputs, d_j / dmax distances, x/s/z_Lk_j ReLU unit j of nonlinear layer k (z=1: inactive)
* model adversarial: 13 columns (2 binary, 0 general integer), 14 rows, 0 indicator constraints
NAME adversarial FREE
ROWS
 N obj
 E relu_L1_0
 L ub_L1_0
 L lb_L1_0
 E relu_L1_1
 L ub_L1_1
 L lb_L1_1
 E relu_L1_2
 E out_0
 E out_1
 G dp_0
 G dn_0
 G dp_1
 G dn_1
 G margin_1
COLUMNS
    in_0 relu_L1_0 -1
    in_0 relu_L1_1 -1
    in_0 relu_L1_2 -0.5
    in_0 dp_0 -1
    in_0 dn_0 1
    in_1 relu_L1_0 -1
    in_1 relu_L1_1 1
    in_1 relu_L1_2 -0.5
    in_1 dp_1 -1
    in_1 dn_1 1
    x_L1_0 relu_L1_0 1
    x_L1_0 ub_L1_0 1
    x_L1_0 out_0 -1
    x_L1_0 out_1 1
    s_L1_0 relu_L1_0 -1
    s_L1_0 lb_L1_0 1
    MARKER 'MARKER' 'INTORG'
    z_L1_0 ub_L1_0 1
    z_L1_0 lb_L1_0 -1
    MARKER 'MARKER' 'INTEND'
    x_L1_1 relu_L1_1 1
    x_L1_1 ub_L1_1 1
    x_L1_1 out_0 1
    x_L1_1 out_1 -2
    s_L1_1 relu_L1_1 -1
    s_L1_1 lb_L1_1 1
    MARKER 'MARKER' 'INTORG'
    z_L1_1 ub_L1_1 1
    z_L1_1 lb_L1_1 -1
    MARKER 'MARKER' 'INTEND'
    x_L1_2 relu_L1_2 1
    x_L1_2 out_0 -1
    x_L1_2 out_1 1
    y_0 out_0 1
    y_0 margin_1 1
    y_1 out_1 1
    y_1 margin_1 -1
    d_0 obj 1
    d_0 dp_0 1
    d_0 dn_0 1
    d_1 obj 1
    d_1 dp_1 1
    d_1 dn_1 1
RHS
    RHS relu_L1_0 -1
    RHS ub_L1_0 1
    RHS ub_L1_1 1
    RHS relu_L1_2 0.25
    RHS out_1 0.5
    RHS dp_0 -0.8
    RHS dn_0 0.8
    RHS dp_1 -0.3
    RHS dn_1 0.3
    RHS margin_1 0.2
BOUNDS
 UP BND in_0 1
 UP BND in_1 1
 UP BND x_L1_0 1
 UP BND s_L1_0 1
 BV BND z_L1_0
 UP BND x_L1_1 1
 UP BND s_L1_1 1
 BV BND z_L1_1
 LO BND x_L1_2 0.25
 UP BND x_L1_2 1.25
 LO BND y_0 -0.75
 UP BND y_0 2.25
 LO BND y_1 -1.75
 UP BND y_1 2.25
 UP BND d_0 0.8
 UP BND d_1 0.7
ENDATA
